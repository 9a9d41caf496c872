"""The credential-less sandbox: a Messenger that keeps what would be sent, for the demo."""
