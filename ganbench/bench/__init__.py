"""The benchmark runner: jobs, executors, the SQLite results store, tables, compare and reports.

``runner.run`` (models x seeds -> rows + tables), ``compare.compare`` (a new model ranked among
the baselines), ``report.make_report`` (HTML with plots), ``store.Store`` (the results table).
"""
