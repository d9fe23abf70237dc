import OwlCore
