"""`recruit doctor`: check the configuration against the REDCap project, as a checklist.

Every area's checks live here, and doctor imports the areas (never the other way round):

- ``check``: the ``Check`` rows and the ``DoctorReport`` (``recruit.doctor/1`` as JSON);
- ``config_checks``: the configuration on its own (rules, ID ranges, safety recipients);
- ``mail``: the e-mail settings, every template rendered, Microsoft sign-in for Graph;
- ``project``: the REDCap project (fields, choice codes, pipeline fields, unique field);
- ``run``: ``doctor`` (load, connect, check) and ``run_doctor`` (the checks in order).

Local checks come first, then REDCap: reachable and the token accepted, then the project.
The exit code is the worst failed check's: 3 for configuration problems (a refused token
included), 4 when REDCap is unreachable, 6 when nobody is signed in to Microsoft.
"""

from recruit_cli.doctor.check import FAIL, OK, SCHEMA, WARN, Check, DoctorReport
from recruit_cli.doctor.run import doctor, run_doctor

__all__ = ["FAIL", "OK", "SCHEMA", "WARN", "Check", "DoctorReport", "doctor", "run_doctor"]
