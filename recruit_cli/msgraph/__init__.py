"""Microsoft sign-in (MSAL, one shared token cache) and the Graph ``sendMail`` transport.

``auth`` holds the MSAL applications, the token cache and the sign-in flows; ``transport``
the ``GraphTransport`` that sends mail and answers ``was_sent`` from Sent Items.
"""
