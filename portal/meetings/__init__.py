"""Meetings (议事会): agendas, agencies ' written answers, registrations, questions, minutes."""
