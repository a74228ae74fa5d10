"""The data contract: canonical tables, validation rules and import presets."""

from retain.contract.tables import CHURN_REASONS, TABLES, Column, ColumnType, TableName, TableSpec, table_spec

__all__ = ["CHURN_REASONS", "TABLES", "Column", "ColumnType", "TableName", "TableSpec", "table_spec"]
