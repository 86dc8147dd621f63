"""Reading Prometheus text exposition in tests."""


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample, 0 if absent."""
    rendered = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    prefix = f"{name}{{{rendered}}} " if labels else f"{name} "
    return next((float(line[len(prefix) :]) for line in metrics.splitlines() if line.startswith(prefix)), 0.0)
