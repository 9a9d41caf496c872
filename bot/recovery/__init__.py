"""After a hard call: a protected break in the phone system (restored afterwards), and someone to talk to."""
