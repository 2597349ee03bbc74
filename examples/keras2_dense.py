model = Sequential()
model.add(Dense(32, input_shape=(784,)))
model.add(Dense(10, activation="softmax"))
