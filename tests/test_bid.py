"""bid.xlsx read back cell for cell: sheets, headers, values, number formats, totals."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from openpyxl import load_workbook

import fibreplan
from fibreplan._errors import FibreplanError
from fibreplan._errors import InputValidationError
from fibreplan.bid import _GBP
from fibreplan.bid import _GBP_P
from fibreplan.bid import _check_written
from fibreplan.bid import _summary_rows
from fibreplan.bid import assumptions_table
from fibreplan.bid import boq_by_cabinet
from fibreplan.bid import boq_table
from fibreplan.bid import premises_costs
from fibreplan.bid import write_bid_xlsx

SHEETS = ["Summary", "BoQ", "BoQ by cabinet", "Premises", "Assumptions"]


@pytest.fixture
def plan(streets, premises, headend) -> fibreplan.Plan:
    prem = premises.copy()
    # text that a spreadsheet writer could take for a formula or a link stays text
    prem["premises_id"] = ["=SUM(A1:A9)", "https://example.org/p/2", "C", "D", "E"]
    return fibreplan.plan(streets, prem, headend=headend)


def _expected(v):
    """A DataFrame value as the workbook holds it: NaN, None and "" are empty cells.

    Numbers are stored to 16 significant digits (as openpyxl did; Excel shows 15).
    """
    if v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v)):
        return None
    v = v.item() if hasattr(v, "item") else v
    return float(f"{v:.16g}") if isinstance(v, float) else v


def _check_table(ws, df: pd.DataFrame, formats: dict[str, str], *, extra_rows: int = 0) -> None:
    """The sheet holds ``df`` cell for cell with a bold frozen header, filter and formats."""
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == list(df.columns)
    assert all(c.font.b for c in rows[0])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{rows[0][-1].column_letter}{len(df) + 1}"
    assert len(rows) == len(df) + 1 + extra_rows
    for row, values in zip(rows[1:], df.itertuples(index=False), strict=False):
        for cell, col, v in zip(row, df.columns, values, strict=True):
            assert cell.value == _expected(v), (ws.title, cell.coordinate, col)
            assert type(cell.value) is type(_expected(v)) or isinstance(cell.value, int | float)
            assert cell.number_format == formats.get(col, "General"), (ws.title, col)
            assert not cell.font.b


def test_bid_xlsx_reads_back_cell_for_cell(tmp_path, plan) -> None:
    path = write_bid_xlsx(plan, tmp_path / "bid.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS
    s = plan.summary

    summary = list(wb["Summary"].iter_rows(values_only=False))
    assert [c.value for c in summary[0]] == ["figure", "value"]
    assert wb["Summary"].freeze_panes == "A2"
    for (label, value, fmt), (a, b) in zip(_summary_rows(s), summary[1:], strict=True):
        assert (a.value, b.value, b.number_format) == (label, value, fmt)

    boq = boq_table(plan.costing)
    money = dict.fromkeys(("unit_cost_low_gbp", "unit_cost_gbp", "unit_cost_high_gbp"), _GBP_P)
    money.update(dict.fromkeys(("cost_low_gbp", "cost_gbp", "cost_high_gbp"), _GBP))
    _check_table(wb["BoQ"], boq, {**money, "quantity": "#,##0.##"}, extra_rows=1)
    total = list(wb["BoQ"].iter_rows())[-1]
    values = dict(zip(boq.columns, (c.value for c in total), strict=True))
    assert values.pop("item") == "TOTAL"
    assert values.pop("cost_gbp") == s["cost_total_gbp"]
    assert values.pop("cost_low_gbp") == s["cost_low_gbp"]
    assert values.pop("cost_high_gbp") == s["cost_high_gbp"]
    assert set(values.values()) == {None}
    assert all(c.font.b and c.number_format == _GBP for c in total)

    prem = premises_costs(plan)
    by_cabinet = boq_by_cabinet(plan, prem)
    _check_table(wb["BoQ by cabinet"], by_cabinet,
                 {c: _GBP for c in by_cabinet.columns if c.endswith("_gbp")})  # fmt: skip
    _check_table(wb["Premises"], prem, {c: _GBP_P for c in prem.columns if c.endswith("_gbp")})
    _check_table(wb["Assumptions"], assumptions_table(plan), {"low": "#,##0.##",
                                                              "high": "#,##0.##"})  # fmt: skip

    # the per-premises shares read back from the sheet add up to summary.json's totals
    sheet = pd.DataFrame(list(wb["Premises"].iter_rows(min_row=2, values_only=True)),
                         columns=prem.columns)  # fmt: skip
    assert round(sheet["build_share_gbp"].sum(), 2) == s["cost_build_gbp"]
    assert round(sheet["connection_gbp"].sum(), 2) == s["cost_connection_gbp"]
    assert round(sheet["cost_share_gbp"].sum(), 2) == s["cost_total_gbp"]
    assert sheet["units"].sum() == s["premises_total"]
    assert (sheet["status"] == "connected").sum() == s["premises_connected"]
    # ... and the cabinets' totals to the build and connection totals
    cab = pd.DataFrame(list(wb["BoQ by cabinet"].iter_rows(min_row=2, values_only=True)),
                       columns=by_cabinet.columns)  # fmt: skip
    assert round(cab["total_gbp"].sum(), 2) == s["cost_total_gbp"]
    # formulas and links were not made of text, and unreachable premises have no DP (empty cell)
    ids = sheet["premises_id"].tolist()
    assert ids[:2] == ["=SUM(A1:A9)", "https://example.org/p/2"]
    ws = wb["Premises"]
    assert ws["A2"].data_type == "s"
    assert not ws._hyperlinks  # openpyxl keeps a sheet's links there
    assert sheet.loc[sheet["status"] != "connected", "dp_id"].isna().all()


def test_bid_xlsx_takes_more_sheets_and_refuses_to_overwrite(tmp_path, plan) -> None:
    path = write_bid_xlsx(plan, tmp_path / "bid.xlsx")
    # a plan with a bid appends sheets with openpyxl (fibreplan.subsidy.write_bid_outputs)
    with pd.ExcelWriter(path, engine="openpyxl", mode="a", if_sheet_exists="replace") as w:
        pd.DataFrame({"phase": [1, 2]}).to_excel(w, sheet_name="Phases", index=False)
    wb = load_workbook(path)
    assert wb.sheetnames == [*SHEETS, "Phases"]
    assert wb["Premises"].max_row == len(plan.premises) + 1
    with pytest.raises(InputValidationError, match="overwrite"):
        write_bid_xlsx(plan, path)
    write_bid_xlsx(plan, path, overwrite=True)
    assert load_workbook(path).sheetnames == SHEETS


def test_a_sheet_past_excels_last_row_is_an_error() -> None:
    _check_written(0, "Premises", 10)
    with pytest.raises(FibreplanError, match=r"'Premises' needs 1,048,577 rows"):
        _check_written(-1, "Premises", 1_048_576)


def test_costs_png_leaves_the_callers_matplotlib_backend(tmp_path, plan) -> None:
    import matplotlib as mpl
    from PIL import Image

    from fibreplan.bid import write_costs_png

    before = mpl.get_backend()
    mpl.use("svg")  # a notebook's backend, say: writing the bid files must not switch it
    try:
        path = write_costs_png(plan, tmp_path / "costs.png")
        assert mpl.get_backend() == "svg"
    finally:
        mpl.use(before)
    with Image.open(path) as image:
        assert image.format == "PNG"
        # 13 in wide at 110 dpi; 0.28 in per BoQ item and 1.5 in more, at least 4 in
        items = plan.costing.boq["item"].nunique()
        assert image.size == (1430, round(110 * max(4.0, 0.28 * items + 1.5)))
