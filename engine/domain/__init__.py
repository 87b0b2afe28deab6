"""Plans in the database and what happens to their tasks: loading, workflow, evidence, dates."""
