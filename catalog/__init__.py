"""Service items (事项), their guides (办事指南), departments, themes and search."""
