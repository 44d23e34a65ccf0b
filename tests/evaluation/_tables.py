"""Realistic multiclass tables where the test rows miss a class the model knows.

``seattle_weather`` has the shape of vega's seattle-weather data (daily rows
of 2012-2015: precipitation, temp_max, temp_min, wind and one of five
weather labels). As in the real data, the first year is unlike the others:
2012 here is mild (no snow) and its fog days were recorded as sun, so a model
trained on 2013-2015 and tested on 2012 knows five labels, meets three in
y_true and predicts fog, which never occurs in y_true.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["precipitation", "temp_max", "temp_min", "wind"]
LABELS = ("drizzle", "fog", "rain", "snow", "sun")


def seattle_weather(seed: int = 0) -> pd.DataFrame:
    """Four years of daily weather, 2012-2015, with the label column ``weather``."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2012-01-01", "2015-12-31", freq="D")
    n = len(dates)
    first = np.asarray(dates.year == 2012)
    season = np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 200) / 365)
    temp_max = 16 - 9 * season + rng.normal(0, 3, n) + np.where(first, 8.0, 0.0)
    temp_min = temp_max - 7 + rng.normal(0, 2, n)
    precipitation = np.where(rng.random(n) < 0.4 + 0.2 * season,
                             rng.gamma(1.0, 5.0, n), 0.0).round(1)
    wind = rng.gamma(3, 1.1, n).round(1)
    weather = np.select(
        [(precipitation > 0) & (temp_max < 4), (precipitation > 0) & (precipitation < 1.0),
         precipitation > 0, wind < 1.3],
        ["snow", "drizzle", "rain", "fog"], "sun")
    noise = rng.random(n) < 0.05
    weather = np.where(noise, rng.choice(["drizzle", "rain", "sun"], n), weather)
    weather = np.where(first & (weather == "fog"), "sun", weather)  # 2012 lost its fog labels
    return pd.DataFrame({"date": dates, "precipitation": precipitation,
                         "temp_max": temp_max.round(1), "temp_min": temp_min.round(1),
                         "wind": wind, "weather": weather})


def weather_split(seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """Train on 2013-2015, test on 2012: ``X_train, y_train, X_test, y_test``."""
    df = seattle_weather(seed)
    test = (df["date"].dt.year == 2012).to_numpy()
    return (df.loc[~test, FEATURES], df.loc[~test, "weather"],
            df.loc[test, FEATURES], df.loc[test, "weather"])


def wine_without_a_class() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """scikit-learn's wine data; the test rows hold no ``class_2`` (the model knows three)."""
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    data = load_wine(as_frame=True)
    X = data.data[["alcohol", "malic_acid", "ash"]]
    y = pd.Series(np.asarray(data.target_names)[data.target], index=X.index, name="cultivar")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0,
                                                        stratify=y)
    keep = (y_test != "class_2").to_numpy()
    return X_train, y_train, X_test[keep], y_test[keep]
