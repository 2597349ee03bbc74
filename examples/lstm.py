model = keras.Sequential([
    keras.Input(shape=(20, 3)),
    layers.LSTM(units=10),
])
