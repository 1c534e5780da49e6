"""The application layer: every operation a person does (sign in, work an item, reply, merge, read a
mail's trace), one function each, shared by the CLI and the HTTP API. It reaches the pipeline only
through versioned messages (``outgoing``) and the database; pipeline services never import it."""
