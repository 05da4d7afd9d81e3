"""Case data bundled with gridcoherence (data only; see README.md here)."""
