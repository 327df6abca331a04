"""Investigation workflow: cases, reviews and sharing (``cases``) and the detection runner."""
