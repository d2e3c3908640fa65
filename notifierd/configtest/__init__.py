"""Config tests: cases of requests and what the config must do with them (``notifierd test``)."""

from notifierd.configtest.cases import Case, case_files, load_cases, load_file
from notifierd.configtest.runner import CaseResult, Failure, run_case

__all__ = ["Case", "CaseResult", "Failure", "case_files", "load_cases", "load_file", "run_case"]
