import math

import pytest

from app.routing import GreatCircleProvider, Matrix, haversine_m

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def test_haversine_paris_london():
    # Reference value from the haversine formula with R = 6371.0088 km: ~343.6 km.
    assert haversine_m(PARIS, LONDON) == pytest.approx(343_600, rel=0.002)


def test_haversine_quarter_meridian():
    assert haversine_m((0.0, 0.0), (90.0, 0.0)) == pytest.approx(math.pi / 2 * 6_371_008.8)


def test_great_circle_applies_road_factor_and_speed():
    m = GreatCircleProvider(road_factor=1.5, speed_kmh=90).matrix([PARIS, LONDON, PARIS])
    road = haversine_m(PARIS, LONDON) * 1.5
    assert m.distances[0][1] == round(road)
    assert m.durations[0][1] == round(road / 25.0)  # 90 km/h = 25 m/s
    assert m.distances == [list(row) for row in zip(*m.distances, strict=True)]
    assert [m.durations[i][i] for i in range(3)] == [0, 0, 0]
    assert m.distances[0][2] == 0 and m.warnings == []


def test_great_circle_defaults():
    p = GreatCircleProvider()
    assert (p.road_factor, p.speed_kmh) == (1.3, 60)
    assert p.matrix([]).size == 0


@pytest.mark.parametrize("kwargs", [{"road_factor": 0}, {"speed_kmh": -1}])
def test_great_circle_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        GreatCircleProvider(**kwargs)


def test_matrix_from_costs_copies():
    costs = [[0, 3], [4, 0]]
    m = Matrix.from_costs(costs)
    costs[0][1] = 99
    assert m.durations == [[0, 3], [4, 0]] and m.distances == [[0, 3], [4, 0]]
    assert m.durations is not m.distances
