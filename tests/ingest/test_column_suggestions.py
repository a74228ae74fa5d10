"""A file whose columns do not fit says which --map options would fix it, and which known export it is."""

from __future__ import annotations

import pytest

from retain.errors import InputError, SchemaMismatchError
from retain.ingest import IngestOptions, ingest
from retain.ingest.suggest import map_suggestions

RETAIL_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"


def _error(lake, table, path, options=None) -> SchemaMismatchError:
    with pytest.raises(SchemaMismatchError) as caught:
        ingest(lake, table, path, options)
    return caught.value


def test_closest_columns_become_ready_to_paste_map_options(tmp_path, lake):
    path = tmp_path / "o.csv"
    path.write_text("OrderID,CustID,ordered_at,Total,status,E-Mail Address\no1,c1,2025-01-01,1,completed,x\n")
    error = _error(lake, "orders", path)

    # OrderID and CustID are close to order_id and customer_id; Total is not close to amount, so nothing for it.
    assert error.suggested_map == {"order_id": "OrderID", "customer_id": "CustID"}
    assert "Closest columns: --map order_id=OrderID --map customer_id=CustID." in str(error)
    assert error.missing == ["order_id", "customer_id", "amount"]
    assert "The header is that of a known export" not in str(error)


def test_names_with_spaces_are_quoted_for_the_shell(tmp_path, lake):
    path = tmp_path / "c.csv"
    path.write_text("Cust Id,created_at,Email Address\nc1,2025-01-01,a@b.c\n")
    error = _error(lake, "customers", path)
    assert error.suggested_map == {"customer_id": "Cust Id", "email": "Email Address"}
    assert "--map customer_id='Cust Id' --map email='Email Address'" in str(error)


def test_a_known_exports_header_names_its_preset(tmp_path, lake):
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_HEADER + "489434,85048,LIGHTS,12,2009-12-01 07:45:00,6.95,13085,United Kingdom\n")
    for table in ("orders", "customers"):  # the preset's own table, and another one
        message = str(_error(lake, table, path))
        assert (
            "The header is that of a known export: `retain ingest orders FILE --preset online-retail-ii` (UCI Online "
            "Retail II invoice lines (one order per invoice; C-invoices become refunds))." in message
        )


def test_a_map_naming_a_column_the_file_lacks_offers_the_closest(tmp_path, lake):
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_HEADER)
    with pytest.raises(InputError, match=r"has no column 'CustomerID'\. Did you mean 'Customer ID'\?"):
        ingest(lake, "orders", path, IngestOptions(mapping={"customer_id": "CustomerID"}))


def test_each_input_column_is_suggested_once_best_pair_first():
    # "customer" and "customerid" both resemble customer_id: the exact one wins, "customer" is not used twice.
    got = map_suggestions(["customer_id", "email"], ["customer", "customerid", "e_mail", "mail_address", "zzz"])
    assert got == {"customer_id": "customerid", "email": "e_mail"}
    assert map_suggestions(["amount"], ["Country", "Total"]) == {}
