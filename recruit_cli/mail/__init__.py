"""E-mail: messages, templates and the transports that send them."""
