"""One adapter per phone system: verify the signature, then parse into provider-neutral events."""
