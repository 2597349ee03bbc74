inputs = keras.Input(shape=(h, w, 3))
x = layers.Conv2D(16, 3, padding="same")(inputs)
skip = x
x = layers.Conv2D(32, 3, strides=2, padding="same")(x)
x = layers.Conv2DTranspose(16, 3, strides=2, padding="same")(x)
x = layers.Concatenate()([x, skip])
model = keras.Model(inputs, x)
