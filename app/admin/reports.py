"""Results as files: charts (PNG/SVG), JSON, the spreadsheet and the PDF report."""

from __future__ import annotations

import io

from flask import Response, abort, jsonify, request
from flask_babel import get_locale

from analysis import FilterRefused, write_xlsx
from app.admin import bp
from app.admin.views import campaign_or_404
from app.services.results import CHART_FORMATS, campaign_results, chart, report_pdf

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, mimetype: str, filename: str | None = None) -> Response:
    headers = {"Cache-Control": "private, no-store"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(data, mimetype=mimetype, headers=headers)


@bp.get("/campaigns/<slug>/charts/<name>.<fmt>")
def chart_image(slug: str, name: str, fmt: str):
    try:
        results = campaign_results(campaign_or_404(slug), request.args.get("group") or None)
        data = chart(results, name, fmt, str(get_locale()))
    except FilterRefused:
        abort(403)
    except KeyError:
        abort(404)
    return download(data, CHART_FORMATS[fmt])


@bp.get("/campaigns/<slug>/results.json")
def results_json(slug: str):
    return jsonify(campaign_results(campaign_or_404(slug)).json())


@bp.get("/campaigns/<slug>/results.xlsx")
def results_xlsx(slug: str):
    buffer = io.BytesIO()
    write_xlsx(campaign_results(campaign_or_404(slug)).report, buffer)
    return download(buffer.getvalue(), XLSX_MIME, f"results-{slug}.xlsx")


@bp.get("/campaigns/<slug>/report.pdf")
def report(slug: str):
    results = campaign_results(campaign_or_404(slug))
    return download(report_pdf(results, str(get_locale())), "application/pdf", f"report-{slug}.pdf")
