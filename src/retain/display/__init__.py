"""How retain shows numbers to people, shared by its interfaces (the CLI's tables, the dashboard's pages), so a
terminal and a browser print the same figure the same way: number formats, the KPIs and their units, exports
(CSV with spreadsheet formulas neutralised, JSON)."""

__all__: list[str] = []
