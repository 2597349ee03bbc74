"""Real models built in test code (no downloads): torch ResNet / VGG / U-Net / Transformer / LSTM tagger."""
