"""Outreach: invitations, ineligibility notices and staff safety alerts, each sent exactly once.

Modules: ``claims`` (the claim and intent fields, the lease), ``plan`` (pure decisions per
record), ``acquire`` (claiming a window against other recruit runs), ``send`` (the one
claim -> send -> mark engine, and its reconciliation), ``rows`` (what the engine writes, and
the buffer that writes it through ``redcap.writes``), ``result``, ``invite`` / ``notify`` /
``safety`` (what each pass selects, checks and composes), ``preview`` (render one message
without sending).

The guarantee
-------------
No participant and no staff member gets a second message from any number of recruit runs
at once: on any hosts, with any state directories, cron's and a coordinator's by hand. It
rests on two assumptions:

1. **REDCap is one consistent database**: a read that starts after a write's answer sees
   that write. True of a REDCap server (one MySQL database); not of a read replica.
2. **Hosts' clocks agree to well within a quarter of the lease** (``[email]
   claim_lease_minutes``, 60 by default, so within minutes; NTP does far better). Clocks
   are only compared to take over the claim of a run that stopped.

And on two things recruit itself keeps true: every sender runs this version (an older
recruit does not take part in the claim protocol), and a run never uses its claims past
three quarters of the lease (``acquire.LEASE_USABLE``). Each study needs its own mailbox,
or its own ``[email] template_version``, which is part of every message's key.

How
---
REDCap has no compare-and-set, so the guarantee comes from ordering, from a mutual
exclusion protocol that needs none, and from asking the transport. Every message has an
idempotency key, ``<record>:<kind>:<template version>``, carried in the ``X-Recruit-Key``
header (and a Graph extended property). Each pass has its own random run id. Records are
taken in windows (100 over the outbox and Graph, 20 over SMTP):

1. **Claim** (``acquire``: Lamport's fast mutual exclusion, with its proof). Write the
   intent field (``<run id>|<time>``); re-read the window and decide again (status,
   do-not-contact, claim, address: a flag set after the pass started is honoured; another
   run's claim younger than the lease leaves the record to that run); write the claim,
   ``<key>|claimed|<time>|<run id>`` (over SMTP ``reserved``: nothing handed over yet);
   read the intent back. Where it is still this run's, this run alone holds the record;
   otherwise it backs off and writes nothing more to it. Crash points
   ``outreach.after_intent``, ``outreach.after_claim``, ``outreach.after_hold``.
2. **Reconcile** a stale claim this run took over (below).
3. **Send** through the transport. Over SMTP each message is first claimed on its own
   (``claimed``), since SMTP can't say afterwards whether it sent. Do-not-contact and
   status are read again before a send once the last read is older than
   ``recheck_after`` (``send.RECHECK_AFTER``, 5 s; Graph's pacing makes windows slow).
   Crash point ``outreach.after_send``.
4. **Mark**: status (``eligible_invited`` / ``ineligible_notified``; alerts keep
   ``safety_review``), the timestamp field, and ``<key>|sent|<time>``, in one row that
   rides with the next window's first import. Crash point ``outreach.after_mark``.

Every write goes through the one write path (``redcap.writes.RecordWriter``): pipeline
fields only, records the pass read, bisected when REDCap refuses one. A record REDCap
keeps refusing is reported with REDCap's reason and not sent this pass; the others are
(exit 5; 7 when REDCap refuses every record of an import). A window costs 2 imports and
2 exports, so a pass of N records makes about 2 + N/25 REDCap calls over the outbox or
Graph.

What a stop or crash leaves, and what a later pass does:

- no claim: nothing was sent; the record is simply sent next pass;
- an open claim (``reserved``/``claimed``) younger than the lease: left alone, whoever
  wrote it (it may be a run still sending). Once older, a pass takes it over (step 1)
  and reconciles it before sending anything, for the key written in the claim:

  - ``reserved``: never handed to the transport: sent under that key;
  - ``claimed``, ``transport.was_sent(key)`` True: mark only (never a second message);
  - False: outbox: send again under the same key; Graph: send again only once the claim
    is older than ``[email.graph] sent_items_grace`` (600 s: Sent Items lags), else
    release it for a later pass;
  - None (SMTP; or Graph without read access to Sent Items, after the grace period):
    participant mail goes to ``manual_review_required`` with ``delivery_uncertain: ...``
    unless ``[email] resend_uncertain = true``; a staff safety alert is sent again (a
    second alert is harmless, a lost one is not). In shared mode Graph answers False only
    when both Sent Items folders could be read;
  - Graph unreachable or sign-in needed while asking: the pass stops (exit 4 / 6) and the
    claim is released for a later pass.
- ``sent`` but the status not updated (staff reset it, or an old mark was lost): mark only.

So a crash delays up to a window of records by the lease; a back-off (two runs claiming
the same record at the same moment) too. Over the outbox, ``was_sent`` looks in this
host's outbox directory: runs on two hosts share one only if the directory is shared.

A stale ``claimed`` claim for another kind of message (e.g. an ineligibility notice on a
record since re-screened eligible) sends the record to review: someone must check what
went out. A ``sent`` claim for another kind is history and is overwritten. A claim
written by an older template version is reconciled under its own key; one written before
claims carried a run id reads as another run's.

Failures while sending: an address the service refuses sends the record to review
(``email_invalid: ...``), its claim undone, and the pass goes on. ``DeliveryUncertain``
(the service may have accepted the message) keeps the claim for reconciliation and stops
the pass (exit 4). Anything else from the transport (unreachable after its retries, sign-in
needed, send-as refused) means the message was not accepted: its claim and those of the
rest of the window are released and the pass stops with that error's exit code (4, 6, 3,
...). If REDCap fails while claiming, the claims written so far are left to expire (the run
can't know it holds them); if it fails while marking, the sent messages keep their claims
and are reconciled once those are stale. Whatever was sent before a stop is still marked.

Who never gets mail: selection is by status (invite: ``eligible_id_assigned`` with a study
ID; notify: ``ineligible``; alerts: ``safety_review`` not yet alerted nor acknowledged), and
the status is checked again right before the send, so records in manual review or safety
review never receive participant mail. A participant with the do-not-contact field set to
1 is moved to ``manual_review_required`` (``do_not_contact: ...``) instead of being skipped
every pass: it shows up in the review queue and is never sent anything.

``--record ID --resend`` sends a record again under a fresh key
(``<key>:resend-<UTC time>``), logged at WARNING. While its claim is open the record is
put back to the "to send" status, so a crash mid-resend is reconciled by a later pass like
any other claim: each resend is itself exactly-once.

The per-host lock (``run_lock``) still keeps one host's overlapping cron runs apart; it is
no longer what keeps a second sender from sending twice.
"""
