"""Spark jobs of the nightly run: one module per job, pure DataFrame functions + main()."""
