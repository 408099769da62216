"""A stand-in for Microsoft's identity platform and Graph mail, part of the sandbox.

Where the REDCap sandbox stands in for REDCap, this stands in for Microsoft 365: recruit's
real Graph transport and the real ``msal`` library talk to it over https on loopback
exactly as they talk to login.microsoftonline.com and graph.microsoft.com. Tests, the
benchmarks, and a coordinator trying a ``transport = "graph"`` configuration use it::

    from recruit_cli.sandbox.microsoft import run_microsoft_sandbox

    with run_microsoft_sandbox(faults=None) as ms:
        # [email.graph]: authority_host=ms.authority_host, endpoint=ms.endpoint,
        #                ca_bundle=ms.ca_bundle, client_id=ms.client_id,
        #                tenant_id=ms.tenant_id (client_secret=ms.client_secret: app mode)
        ...
        ms.sent          # every accepted sendMail
        ms.set_faults("429@0.2,retry_after=0")

Modules: ``identity`` (sign-in: device code, auth code, refresh, client credentials),
``mail`` (sendMail, the Sent Items search, mailbox knobs), ``faults`` (the fault grammar),
``server`` (the state object, TLS and lifecycle). What it serves, its knobs and faults are
written up in docs/sandbox.md. Nothing here is imported unless a stand-in is started.
"""

from __future__ import annotations

from recruit_cli.sandbox.microsoft.server import MicrosoftSandbox, run_microsoft_sandbox

__all__ = ["MicrosoftSandbox", "run_microsoft_sandbox"]
