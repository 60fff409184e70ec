"""The `motcua` command line: thin wiring around the pure rules and the services.

The commands live in `motcua.commands` (one module per area), each over the
one composition root (`motcua.root`) that builds the pipeline's objects.

Everything a user reads is Vietnamese (help, progress, results, errors);
code and developer docs stay English. An expected failure (a service down,
a missing file, an input of the wrong kind, a period without data) ends in
one line naming what is wrong and the way out and a non-zero exit code
(streams/problems.py lists the codes); only bugs show a traceback.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from motcua.commands import (
    boards,
    catalogue,
    export,
    ingest,
    pipeline,
    reports,
    scorecard,
    simulate,
)
from motcua.console import quiet_libraries, say, settings_for_messages
from streams.problems import explain


class _Commands(TyperGroup):
    """Every command runs through here: expected failures become one line."""

    def invoke(self, ctx) -> object:
        quiet_libraries()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            say("Đã dừng (Ctrl-C).")
            raise typer.Exit(130) from None
        except Exception as exc:  # typer's own exits and usage errors pass: not explained
            problem = explain(exc, settings_for_messages())
            if problem is None:
                raise  # a bug: its traceback is what a report needs
            say(problem.line(), "red")
            raise typer.Exit(problem.exit_code) from None


app = typer.Typer(
    cls=_Commands,
    help="motcua-monitor: giám sát hồ sơ thủ tục hành chính của Trung tâm Phục vụ hành chính công.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.add_typer(reports.app)
app.add_typer(scorecard.app)
app.add_typer(ingest.ingest_app, name="ingest")
app.add_typer(boards.dashboards_app, name="dashboards")
app.add_typer(export.export_app, name="export")
app.add_typer(catalogue.catalogue_app, name="catalogue")
app.add_typer(simulate.app)
app.add_typer(pipeline.services_app, name="services")
app.add_typer(pipeline.app)
