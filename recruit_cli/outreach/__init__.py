"""Outreach: invitations, ineligibility notices and staff safety alerts, each sent exactly once.

Modules: ``claims`` (the claim field), ``plan`` (pure decisions per record), ``send`` (the
one claim -> send -> mark engine), ``invite`` / ``notify`` / ``safety`` (what each pass
selects, checks and composes), ``preview`` (render one message without sending).

How exactly-once works
----------------------
REDCap has no compare-and-set, so the guarantee comes from ordering and from asking the
transport. Every message has an idempotency key, ``<record>:<kind>:<template version>``,
carried in the ``X-Recruit-Key`` header (and a Graph extended property). For each record:

1. **Re-check.** Right before a window of (at most 10) records is claimed, the window is
   re-read from REDCap and decided again: status, do-not-contact, claim, address. A flag
   set after the pass started is therefore honoured. When sending a window is slow (Graph's
   pacing), the records not yet sent are read again before the next send once the last
   read is older than ``recheck_after`` (``send.RECHECK_AFTER``, 5 s), so the check is never
   far from a send.
2. **Claim.** ``<key>|claimed|<UTC time>`` is imported into the claim field (pipeline
   fields only, ``overwriteBehavior=overwrite``). Crash point ``outreach.after_claim``.
3. **Send** through the transport. Crash point ``outreach.after_send``.
4. **Mark**: status (``eligible_invited`` / ``ineligible_notified``; alerts keep
   ``safety_review``), the timestamp field, and ``<key>|sent|<UTC time>``, in one row.
   Crash point ``outreach.after_mark``.

Marks ride in the same import as the next claims, so a pass of N records costs about
2 + N/5 REDCap calls with the outbox or Graph. A claim covers a window of 10 messages where
the transport can later say whether a key went out (outbox: the file; Graph: Sent Items,
by the extended property), and only the one message about to be sent over SMTP, which
cannot say.

What a crash or failure leaves, and what the next pass does:

- no claim: nothing was sent; the record is simply sent next pass;
- ``claimed``: the pass reconciles it *before* sending anything, with
  ``transport.was_sent(key)`` for the key written in the claim:

  - True: mark only (never a second message);
  - False: outbox: send again under the same key; Graph: send again only once the claim
    is older than ``[email.graph] sent_items_grace`` (600 s: Sent Items lags), else wait
    for a later pass;
  - None (SMTP; or Graph without read access to Sent Items, which waits out the grace
    period first): participant mail goes to ``manual_review_required`` with
    ``delivery_uncertain: ...`` unless ``[email] resend_uncertain = true``; a staff safety
    alert is sent again (a second alert is harmless, a lost one is not). In shared mode
    Graph answers False only when both Sent Items folders could be read;
  - Graph unreachable or sign-in needed while asking: the pass stops (exit 4 / 6) and the
    claim stays for the next pass.
- ``sent`` but the status not updated (staff reset it, or an old mark was lost): mark only.

A ``claimed`` claim for another kind of message (e.g. an ineligibility notice on a record
since re-screened eligible) sends the record to review: someone must check what went out.
A ``sent`` claim for another kind is history and is overwritten. A claim written by an
older template version is reconciled under its own key.

Failures while sending: an address the service refuses sends the record to review
(``email_invalid: ...``), its claim undone, and the pass goes on. ``DeliveryUncertain``
(the service may have accepted the message) keeps the claim for reconciliation and stops
the pass (exit 4). Anything else from the transport (unreachable after its retries, sign-in
needed, send-as refused) means the message was not accepted: its claim and the rest of the
chunk's are undone and the pass stops with that error's exit code (4, 6, 3, ...). If REDCap
fails while claiming, the claims are undone as well; if it fails while marking, the sent
messages keep ``claimed`` claims and are reconciled next pass. Whatever was sent before a
stop is still marked.

Who never gets mail: selection is by status (invite: ``eligible_id_assigned`` with a study
ID; notify: ``ineligible``; alerts: ``safety_review`` not yet alerted nor acknowledged), and
the status is checked again right before the send, so records in manual review or safety
review never receive participant mail. A participant with the do-not-contact field set to
1 is moved to ``manual_review_required`` (``do_not_contact: ...``) instead of being skipped
every pass: it shows up in the review queue and is never sent anything.

``--record ID --resend`` sends a record again under a fresh key
(``<key>:resend-<UTC time>``), logged at WARNING. While its claim is open the record is
put back to the "to send" status, so a crash mid-resend is reconciled by the next pass like
any other claim: each resend is itself exactly-once.

The lock (``run_lock``) keeps two runs on one host apart; outreach must run on one host.
"""
