"""The people of a marketplace as this service knows them: id, role, name, and an
e-mail address sealed at rest (for away notifications)."""
