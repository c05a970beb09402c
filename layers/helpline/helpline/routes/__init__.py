"""Staff-API routes, one module per resolver: `functions/*/app.py` wires, `openapi` reads them."""
