"""Running the server: settings, one worker process or a supervisor with several, hot reload.

- :mod:`.config` -- settings from flags, environment and a config file (:class:`~.config.ServeConfig`);
- :mod:`.worker` -- one serving process: stores, served rules, the services, health, reflection;
- :mod:`.supervisor` -- ``--workers N``: forked workers on one port, signals forwarded, the dead restarted;
- :mod:`.watcher` -- hot reload of the rules folder;
- :mod:`.logs` -- the log format; :mod:`.errors` -- :class:`~.errors.ConfigError`.
"""

from __future__ import annotations

import logging

from bekal.serve.config import ServeConfig
from bekal.serve.logs import setup_logging

log = logging.getLogger("bekal.service")


def serve(config: ServeConfig) -> int:
    """Run the server as configured; returns the process exit status."""
    setup_logging(config.log_level)
    log.info("settings: %s", config.describe())
    if config.workers <= 1:
        from bekal.serve.worker import Worker

        return Worker(config).run()
    from bekal.serve.supervisor import supervise

    return supervise(config)
