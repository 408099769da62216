"""A complete, valid recruit.toml using the demo project's field names."""

from __future__ import annotations

TOKEN = "0123456789ABCDEF0123456789ABCDEF"

GOOD = """\
state_dir = "state"

[study]
name = "TMS-EEG"
timezone = "America/Los_Angeles"

[redcap]
url = "https://redcap.example.edu/api/"
token_env = "REDCAP_API_TOKEN"
batch_size = 1000
verify_tls = true

[fields]
email = "participant_email"
study_id = "assigned_study_id"
language = "preferred_language"
do_not_contact = "do_not_contact"
booked_at = "booking_date"

[screening]
ready = "[agree_participate] = '1'"

[[screening.criteria]]
name = "age"
require = "[age] >= 18 and [age] <= 65"
reason = "Must be 18 to 65 years old"

[[screening.criteria]]
name = "travel"
require = "[travel] = '1'"
reason = "Must be able to travel to the lab"
on_unknown = "ineligible"

[qids]
total = "qids_score"

[safety]
when = "[qids_12] >= 2"
notify = ["oncall@example.edu"]

[[groups]]
name = "HC"
label = "Healthy control"
when = "[qids_total] <= 5"
first_id = 3000
last_id = 10199

[[groups]]
name = "MDD"
when = "[qids_total] >= 11 and [qids_total] <= 20"
first_id = 10200
last_id = 20000
target = 80

[email]
transport = "outbox"
sender = "study-team@example.edu"
outbox_dir = "outbox"
templates_dir = "templates/email"

[email.smtp]
host = "smtp.example.edu"
port = 587

[email.graph]
mode = "delegated"
ca_bundle = "/etc/ssl/corp.pem"

[report]
out_dir = "reports"

[ops]
healthcheck_url = ""
"""
