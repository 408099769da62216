"""Screening as configuration: QIDS scoring, classification, and the screen/assign passes.

- ``qids``: QIDS-SR16 validation and scoring (pure).
- ``classify``: one record -> an ``Outcome`` (pure, total: never raises on participant data).
- ``screen`` / ``assign``: the two REDCap passes (plan -> apply).
- ``status`` / ``doctor`` / ``setup_fields``: operator views and project set-up.
"""
