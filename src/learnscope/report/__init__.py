"""The HTML report of recorded runs (`learnscope report`): figures drawn from the run store, laid out by a
Jinja2 template with autoescaping. Above the store: it reads runs, never writes them."""

from learnscope.report.render import REPORT_SUFFIXES, ReportRun, check_report_path, read_report_run, render_report

__all__ = ["REPORT_SUFFIXES", "ReportRun", "check_report_path", "read_report_run", "render_report"]
