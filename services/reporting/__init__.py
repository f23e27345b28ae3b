"""The weekly review rendered: JSON (its pydantic model), self-contained HTML, PDF from it."""
