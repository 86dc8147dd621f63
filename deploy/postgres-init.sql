-- One database per service, as in production (each service owns and migrates its own).
CREATE DATABASE identity;
CREATE DATABASE sessions;
