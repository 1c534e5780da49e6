from shared.settings import CommonSettings


class ItemwriterSettings(CommonSettings):
    pass
