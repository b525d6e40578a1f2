"""Settings for the whole suite.

Hypothesis measures time in two places: a deadline per example (200 ms by default) and a
health check that fails a test whose inputs take long to generate. On a busy two-core CI
machine either fails a correct test, so both are off: no test here depends on timing.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("tradewire", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tradewire")
