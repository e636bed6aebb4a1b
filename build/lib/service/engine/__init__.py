"""Policy engines: the embedded OPA evaluator and (later) an OPA server, behind one protocol."""
