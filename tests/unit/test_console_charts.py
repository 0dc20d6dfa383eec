"""The console's SVG charts: well-formed, escaped, scaled on round numbers, labelled in Vietnam time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree

from gateway.console.charts import Series, line_chart, nice_step, time_ticks, y_ticks

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode("utf-8"))


def test_round_steps_and_ticks() -> None:
    assert [nice_step(s) for s in (4, 10, 37, 120, 999)] == [1.0, 5.0, 10.0, 50.0, 500.0]
    assert y_ticks(0) == [0.0, 0.5, 1.0]  # an all-zero chart still has a scale
    assert y_ticks(37) == [0.0, 10.0, 20.0, 30.0, 40.0]
    start = T0.timestamp() + 17
    ticks = time_ticks(start, start + 3600)
    assert ticks and all(t % 600 == 0 for t in ticks) and len(ticks) <= 6  # every 10 min, on the minute


def test_a_chart_draws_one_line_per_series_scaled_to_its_grid() -> None:
    points = [((T0 + timedelta(minutes=m)).timestamp(), float(m * 3)) for m in range(11)]
    svg = parse(
        line_chart(
            [Series("Nhận từ Cổng", points), Series("Gửi đến Cổng", [])],
            start=T0.timestamp(),
            end=(T0 + timedelta(minutes=10)).timestamp(),
            title="Lưu lượng",
        )
    )
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 1 and "series-0" in lines[0].get("class", "")
    coords = [tuple(map(float, p.split(","))) for p in lines[0].get("points", "").split()]
    assert len(coords) == 11
    assert coords[0][0] < coords[-1][0] and coords[0][1] > coords[-1][1]  # rises to the right
    labels = [t.text for t in svg.findall(f"{SVG}text")]
    assert "30" in labels  # the top of the grid is the maximum, rounded
    assert "09:00" in labels and "09:10" in labels  # Vietnam time
    assert svg.findtext(f"{SVG}title") == "Lưu lượng"


def test_text_is_escaped_and_an_empty_chart_says_so() -> None:
    svg = line_chart(
        [Series("<script>alert(1)</script>", [])],
        start=T0.timestamp(),
        end=T0.timestamp() + 600,
        title='"quoted" & <b>',
        empty_text="Chưa có mẫu số liệu",
    )
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)  # still well-formed
    assert root.findall(f"{SVG}polyline") == []
    assert "Chưa có mẫu số liệu" in [t.text for t in root.findall(f"{SVG}text")]


def test_a_single_sample_shows_as_a_dot() -> None:
    svg = parse(
        line_chart([Series("x", [(T0.timestamp(), 5.0)])], start=T0.timestamp() - 60, end=T0.timestamp())
    )
    assert len(svg.findall(f"{SVG}circle")) == 1
