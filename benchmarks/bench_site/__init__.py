"""The example registrar as the HTTP benchmark serves it, plus a trivial JSON view as the stack's ceiling."""
