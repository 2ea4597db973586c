"""One module per topic; each defines ``TOPIC`` and is discovered by ``derive.registry``."""
