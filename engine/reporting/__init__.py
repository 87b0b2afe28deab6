"""What leaves the engine: dashboards, frozen snapshots, report exports and reading reports back."""
