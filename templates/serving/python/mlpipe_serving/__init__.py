"""mlpipe's model server: a model package served over the Open Inference Protocol V2.

Run it as `python3 -m mlpipe_serving`, configured by environment variables (README.md).
"""

__version__ = "0.1.0"
