"""Models for `shapesmith summary examples.models:NAME` (built with no pretrained weights: nothing is downloaded).

Keras names layers from a per-process counter (conv2d_162); ``clear_session`` restarts it, so the names are the
same however many models were built before."""


def vgg16():
    """Keras' VGG16 with its top: Flatten -> Dense fixes the input size."""
    import keras
    keras.backend.clear_session()
    return keras.applications.VGG16(weights=None)


def inception_resnet_v2():
    """The seed's model: include_top=True, global pooling before the classifier."""
    import keras
    keras.backend.clear_session()
    return keras.applications.InceptionResNetV2(weights=None)


def small_cnn():
    """A PyTorch CNN with a Flatten -> Linear head."""
    from torch import nn
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 8 * 8, 10))
