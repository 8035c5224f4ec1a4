"""The answering service (SPEC S13): companies answered in their own name, their staff and
absence notes, and what a caller of a company's number hears. Imports nothing of vaxel/."""

from .config import AbsenceConfig, CompanyConfig, StaffConfig, company_problems
from .greeting import CompanyFlows, FlowRunner, company_open, greet_for_company
from .model import Absence, Company, CompanyBook, Staff, find_staff

__all__ = [
    "Absence",
    "AbsenceConfig",
    "Company",
    "CompanyBook",
    "CompanyConfig",
    "CompanyFlows",
    "FlowRunner",
    "Staff",
    "StaffConfig",
    "company_open",
    "company_problems",
    "find_staff",
    "greet_for_company",
]
