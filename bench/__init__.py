"""`make bench` (manage.py bench): speed as ratios to a trivial view measured in the same run, and the
server launcher the tests share."""
