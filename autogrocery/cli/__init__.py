"""The `autogrocery` command line: the registry and the parser (`main.py`), what a
command is (`command.py`), and one module per command or family of commands: `run`
(`run.py`, starting the store in `run_start.py`, with the dashboard and the simulator in
`run_dashboard.py`), `config`, `robot`/`analytics`/`keys` (`remote.py`), `dashboard`,
`accounts`, `check`, `backup`/`restore` (`backup.py`), `bench` and `central`."""
