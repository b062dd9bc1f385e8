"""Kizuna (絆): critical-mineral supply analytics and shared cyber threat intelligence."""

__version__ = "0.1.0"
