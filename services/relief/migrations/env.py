from shared.migrate import run_env

from services.relief.models import Base

run_env(Base.metadata)
