"""Vietnamese text helpers shared by every package (a leaf: imports nothing of the project)."""
