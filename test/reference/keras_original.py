"""Reference for the `keras-original-v1` normaliser: the original Python service's preprocessing and
Keras' `text_to_word_sequence` (Tokenizer defaults), written out so the test needs no TensorFlow.
Reads a JSON list of strings on stdin, prints a JSON list of token lists."""
import json
import re
import sys

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text, filters=KERAS_FILTERS, lower=True, split=' '):
    # keras.preprocessing.text.text_to_word_sequence
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


def original_service(text):
    text = text.lower()
    text = re.sub('[^a-zA-z0-9\\s]', '', text)
    return text_to_word_sequence(text)


json.dump([original_service(t) for t in json.load(sys.stdin)], sys.stdout)
